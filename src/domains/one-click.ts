import { readHeader, valuesOf } from '../plugin/header-reader';

/** Whether a header block has RFC 8058 one-click unsubscribe. */
export function hasOneClickUnsubscribe(headerBlock: string): boolean {
  const header = readHeader(Buffer.from(headerBlock, 'latin1'));
  return (
    valuesOf(header, 'list-unsubscribe').some((v) => /<https:\/\//i.test(v)) &&
    valuesOf(header, 'list-unsubscribe-post').some((v) => /^List-Unsubscribe=One-Click$/i.test(v))
  );
}
