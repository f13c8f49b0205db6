/**
 * RFC 6376 §3.4.4 (relaxed body canonicalisation) read literally, as line operations on a
 * string: the reference the one-pass signer is checked against, and the benchmark's baseline
 * (it is what the signer did before).
 */
export function literalRelaxedBody(body: Buffer): Buffer {
  const lines = body
    .toString('latin1')
    .split(/\r?\n/)
    .map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return Buffer.from(lines.length ? `${lines.join('\r\n')}\r\n` : '', 'latin1');
}
