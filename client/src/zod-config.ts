/**
 * Imported first by main.tsx. zod compiles fast object parsers with
 * `new Function` when it can, and finds out by trying once; the page's
 * Content-Security-Policy (no 'unsafe-eval', Trusted Types required) refuses
 * that try and reports it as a violation. Telling zod up front skips the try:
 * it parses the same way, without generated code.
 */
import { z } from 'zod';

z.config({ jitless: true });
