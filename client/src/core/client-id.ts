/**
 * Idempotency keys for sends: 32 hex characters, matching the protocol's
 * `^[A-Za-z0-9_-]{8,64}$`.
 */
export function newClientId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID().replaceAll('-', '');
  }
  // Old browsers on plain HTTP lack randomUUID; getRandomValues is still secure.
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
