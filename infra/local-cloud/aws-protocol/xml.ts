/** XML text as the AWS XML protocols (S3, the query protocol) write and read it. */

const ESCAPES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;', '\r': '&#13;' };
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

export function xmlEscape(value: string): string {
  return value.replace(/[<>&'"\r]/g, (c) => ESCAPES[c]!);
}

/** The text of an element as an XML parser gives it: named and numeric entities decoded. */
export function xmlUnescape(value: string): string {
  return value.replace(/&(lt|gt|amp|apos|quot|#(\d+)|#x([0-9a-f]+));/gi, (_, name: string, dec?: string, hex?: string) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(Number.parseInt(hex, 16));
    return ENTITIES[name.toLowerCase()]!;
  });
}

/** An element with text content. */
export function xmlElement(name: string, text: string): string {
  return `<${name}>${xmlEscape(text)}</${name}>`;
}

/** An element with child elements (already XML). */
export function xmlNode(name: string, children: string): string {
  return `<${name}>${children}</${name}>`;
}
