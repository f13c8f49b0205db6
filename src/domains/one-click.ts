/** Whether a header block has RFC 8058 one-click unsubscribe. */
export function hasOneClickUnsubscribe(headerBlock: string): boolean {
  const end = headerBlock.search(/\r?\n\r?\n/);
  const unfolded = (end >= 0 ? headerBlock.slice(0, end) : headerBlock).replace(
    /\r?\n[ \t]+/g,
    ' ',
  );
  const lines = unfolded.split(/\r?\n/);
  const value = (name: string) =>
    lines
      .filter((l) => l.toLowerCase().startsWith(name + ':'))
      .map((l) => l.slice(name.length + 1).trim());
  return (
    value('list-unsubscribe').some((v) => /<https:\/\//i.test(v)) &&
    value('list-unsubscribe-post').some((v) => /^List-Unsubscribe=One-Click$/i.test(v))
  );
}
