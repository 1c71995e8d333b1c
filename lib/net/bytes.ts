/** Byte arrays joined: the network engine's one copy of chunks into a whole. */

/** `parts` as one array (the only part itself, uncopied, when there is one). */
export function joinBytes(parts: readonly Uint8Array[], total = parts.reduce((n, p) => n + p.length, 0)): Uint8Array {
  if (parts.length === 1 && parts[0]!.length === total) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
