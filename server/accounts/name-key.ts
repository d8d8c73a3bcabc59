import { remove as removeConfusables } from 'confusables';

/**
 * The key under which a name is owned: one key for every spelling a person
 * would read as the same name. `alice`, `Alice`, `ＡＬＩＣＥ` (fullwidth) and
 * `аlice` (Cyrillic а) are one key, so nobody can register or take as a
 * guest a look-alike of someone's account name.
 *
 * - NFKC folds compatibility forms (fullwidth letters, ligatures, `ⅰ`).
 * - The `confusables` package maps look-alike letters of other scripts
 *   (Cyrillic, Greek, mathematical alphanumerics…) and accented letters to
 *   their Latin base: a maintained table, rather than one of our own.
 * - Lower-casing, before and after, because the table maps to either case.
 *
 * Names that are different words in one script (日本 and 中国) keep their
 * own keys: only what can be confused is folded.
 */
export function nameKey(name: string): string {
  const folded = removeConfusables(name.normalize('NFKC').toLowerCase());
  return folded.toLowerCase().normalize('NFKC');
}
