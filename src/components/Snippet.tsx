import * as React from 'react';

/** A run of a snippet's text, marked (a matched word) or not. */
export interface ISnippetPart {
  text: string;
  mark: boolean;
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'"
};

/** The text an escaped HTML fragment stands for (entities decoded). */
function unescape(html: string): string {
  return html.replace(
    /&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi,
    (entity: string, name: string) => {
      if (name[0] === '#') {
        const hex = name[1] === 'x' || name[1] === 'X';
        const code = parseInt(name.slice(hex ? 2 : 1), hex ? 16 : 10);
        return code > 0 && code <= 0x10ffff
          ? String.fromCodePoint(code)
          : entity;
      }
      return ENTITIES[name.toLowerCase()] ?? entity;
    }
  );
}

/**
 * The service's snippet (escaped HTML, the matched words in
 * `<mark>…</mark>`) as runs of plain text. Only `<mark>` and `</mark>` are
 * read as markup; anything else that looks like a tag stays text, so it is
 * shown, never run.
 */
export function snippetParts(html: string): ISnippetPart[] {
  const parts: ISnippetPart[] = [];
  let mark = false;
  for (const piece of html.split(/(<\/?mark>)/i)) {
    const tag = piece.toLowerCase();
    if (tag === '<mark>' || tag === '</mark>') {
      mark = tag === '<mark>';
    } else if (piece) {
      parts.push({ text: unescape(piece), mark });
    }
  }
  return parts;
}

/** A snippet: text nodes and `<mark>` elements, nothing else. */
export function Snippet(props: { html: string }): JSX.Element | null {
  const parts = snippetParts(props.html);
  if (parts.length === 0) {
    return null;
  }
  return (
    <p className="jp-evn-submit-snippet">
      {parts.map((part, i) =>
        part.mark ? <mark key={i}>{part.text}</mark> : part.text
      )}
    </p>
  );
}
