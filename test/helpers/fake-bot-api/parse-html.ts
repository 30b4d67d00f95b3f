// parse_mode HTML, after tdlib's parse_html: the text without tags and its entities, or 400
// "can't parse entities" naming the tag and byte offset where Telegram refuses the markup.
import { byteOffset, checkedLink, isSpace, parseError, sortEntities, type Entity, type Parsed } from "./text-entities.ts";

const HTML_TAGS = new Set([
  "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
  "tg-spoiler", "tg-emoji", "tg-time", "span", "pre", "code", "blockquote",
]);
const HTML_ENTITY_TYPES: Record<string, string> = {
  b: "bold", strong: "bold", i: "italic", em: "italic", s: "strikethrough", strike: "strikethrough",
  del: "strikethrough", u: "underline", ins: "underline", "tg-spoiler": "spoiler", span: "spoiler",
  code: "code", pre: "pre", blockquote: "blockquote",
};

function decodeHtmlEntity(text: string, i: number): { ch: string; len: number } | undefined {
  const m = /^&(lt|gt|amp|quot|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));/.exec(text.slice(i, i + 12));
  if (!m) return undefined;
  const named: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };
  const name = m[1] ?? "";
  let ch = named[name];
  if (ch === undefined) {
    const code = m[2] !== undefined ? Number(m[2]) : parseInt(m[3] ?? "0", 16);
    if (code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
    ch = String.fromCodePoint(code);
  }
  return { ch, len: m[0].length };
}

/** HTML parse mode, after tdlib's parse_html. */
export function parseHtml(text: string): Parsed {
  const at = (k: number) => text[k] ?? "";
  const n = text.length;
  let out = "";
  const entities: Entity[] = [];
  const stack: { tag: string; arg: string; offset: number; language?: string }[] = [];
  for (let i = 0; i < n; i++) {
    const c = at(i);
    if (c === "&") {
      const d = decodeHtmlEntity(text, i);
      if (d) {
        out += d.ch;
        i += d.len - 1;
      } else out += "&";
      continue;
    }
    if (c !== "<") {
      out += c;
      continue;
    }
    const begin = i;
    const bo = () => byteOffset(text, begin);
    i++;
    if (at(i) !== "/") {
      let tagEnd = i;
      while (tagEnd < n && !isSpace(at(tagEnd)) && at(tagEnd) !== ">") tagEnd++;
      const tag = text.slice(i, tagEnd).toLowerCase();
      if (!HTML_TAGS.has(tag)) throw parseError(`Unsupported start tag "${tag}" at byte offset ${bo()}`);
      i = tagEnd;
      let arg = "";
      while (at(i) !== ">") {
        while (i < n && isSpace(at(i))) i++;
        if (at(i) === ">") break;
        if (i >= n) throw parseError(`Unclosed start tag at byte offset ${bo()}`);
        const nameBegin = i;
        while (i < n && !isSpace(at(i)) && at(i) !== "=" && at(i) !== ">") i++;
        const attr = text.slice(nameBegin, i).toLowerCase();
        if (!attr) throw parseError(`Empty attribute name in the tag "${tag}" at byte offset ${bo()}`);
        while (i < n && isSpace(at(i))) i++;
        if (at(i) !== "=") {
          if (tag === "blockquote" && attr === "expandable") {
            arg = "expandable";
            continue;
          }
          if (i >= n) throw parseError(`Unclosed start tag at byte offset ${bo()}`);
          throw parseError(`Expected equal sign in declaration of an attribute of the tag "${tag}" at byte offset ${bo()}`);
        }
        i++;
        while (i < n && isSpace(at(i))) i++;
        if (i >= n) throw parseError(`Unclosed start tag at byte offset ${bo()}`);
        let value = "";
        const q = at(i);
        if (q !== "'" && q !== '"') {
          const tokenBegin = i;
          while (/[A-Za-z0-9.-]/.test(at(i))) i++;
          value = text.slice(tokenBegin, i).toLowerCase();
          if (!isSpace(at(i)) && at(i) !== ">") {
            throw parseError(`Unexpected end of name token at byte offset ${byteOffset(text, tokenBegin)}`);
          }
        } else {
          i++;
          while (i < n && at(i) !== q) {
            const d = at(i) === "&" ? decodeHtmlEntity(text, i) : undefined;
            if (d) {
              value += d.ch;
              i += d.len;
            } else value += at(i++);
          }
          if (at(i) === q) i++;
        }
        if (i >= n) throw parseError(`Unclosed start tag at byte offset ${bo()}`);
        if (tag === "a" && attr === "href") arg = value;
        else if (tag === "code" && attr === "class" && value.startsWith("language-")) arg = value.slice("language-".length);
        else if (tag === "span" && attr === "class" && value.startsWith("tg-")) arg = value.slice(3);
        else if (tag === "tg-emoji" && attr === "emoji-id") arg = value;
      }
      if (tag === "span" && arg !== "spoiler") throw parseError(`Tag "span" must have class "tg-spoiler" at byte offset ${bo()}`);
      stack.push({ tag, arg, offset: out.length });
    } else {
      if (stack.length === 0) throw parseError(`Unexpected end tag at byte offset ${bo()}`);
      i++;
      let tagEnd = i;
      while (tagEnd < n && !isSpace(at(tagEnd)) && at(tagEnd) !== ">") tagEnd++;
      const endName = text.slice(i, tagEnd).toLowerCase();
      i = tagEnd;
      while (i < n && isSpace(at(i))) i++;
      if (at(i) !== ">") throw parseError(`Unclosed end tag at byte offset ${bo()}`);
      const top = stack.pop()!;
      if (endName && endName !== top.tag) {
        throw parseError(`Unmatched end tag at byte offset ${bo()}, expected "</${top.tag}>", found "</${endName}>"`);
      }
      const offset = top.offset;
      const length = out.length - offset;
      if (length <= 0) continue;
      const parent = stack[stack.length - 1];
      if (top.tag === "a") {
        const link = checkedLink(top.arg);
        if (link) entities.push({ type: "text_link", offset, length, url: link });
      } else if (top.tag === "code" && parent?.tag === "pre" && parent.offset === offset) {
        if (top.arg) parent.language = top.arg; // <pre><code class="language-x"> → pre with language
      } else if (top.tag === "pre") {
        entities.push({ type: "pre", offset, length, ...(top.language ? { language: top.language } : {}) });
      } else if (top.tag === "blockquote") {
        entities.push({ type: top.arg === "expandable" ? "expandable_blockquote" : "blockquote", offset, length });
      } else if (top.tag === "tg-emoji") {
        if (top.arg) entities.push({ type: "custom_emoji", offset, length, custom_emoji_id: top.arg });
      } else {
        const type = HTML_ENTITY_TYPES[top.tag];
        if (type) entities.push({ type, offset, length });
      }
    }
  }
  const open = stack[stack.length - 1];
  if (open) throw parseError(`Can't find end tag corresponding to start tag "${open.tag}"`);
  return { text: out, entities: sortEntities(entities) };
}
