const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Position of the first lone surrogate in `text` (a UTF-16 code unit D800-DFFF that is not
 * half of a pair), or -1 when the string is well-formed Unicode. Such strings cannot be
 * written as UTF-8 unchanged: TextEncoder turns each lone surrogate into U+FFFD, so two
 * different ids could become one after a save.
 */
export function loneSurrogateAt(text: string): number {
  if (!SURROGATE.test(text)) return -1;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < n) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    return i;
  }
  return -1;
}

/** What is wrong with a string holding a lone surrogate, for error messages. */
export function describeLoneSurrogate(text: string, at: number): string {
  const unit = text.charCodeAt(at).toString(16).toUpperCase();
  return `is not well-formed Unicode: lone surrogate \\u${unit} at position ${at}`;
}
