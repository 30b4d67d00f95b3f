// parse_mode Markdown (legacy) and MarkdownV2, after tdlib: the text without markup and its
// entities, or 400 "can't parse entities" where Telegram refuses the markup.
import { byteOffset, checkedLink, isSpace, parseError, sortEntities, type Entity, type Parsed } from "./text-entities.ts";

/** Legacy Markdown, after tdlib's parse_markdown (no nesting; `\` escapes _ * ` [ outside entities). */
export function parseMarkdown(text: string): Parsed {
  const at = (k: number) => text[k] ?? "";
  const n = text.length;
  let out = "";
  const entities: Entity[] = [];
  for (let i = 0; i < n; i++) {
    const c = at(i);
    if (c === "\\" && "_*`[".includes(at(i + 1)) && at(i + 1) !== "") {
      out += at(i + 1);
      i++;
      continue;
    }
    if (c !== "_" && c !== "*" && c !== "`" && c !== "[") {
      out += c;
      continue;
    }
    const begin = i;
    const endChar = c === "[" ? "]" : c;
    i++;
    let isPre = false;
    let language = "";
    if (c === "`" && at(i) === "`" && at(i + 1) === "`") {
      i += 2;
      isPre = true;
      let le = i;
      while (le < n && !isSpace(at(le)) && at(le) !== "`") le++;
      if (i !== le && le < n && at(le) !== "`") {
        language = text.slice(i, le);
        i = le;
      }
      const cur = at(i);
      if (cur === "\r" || cur === "\n") {
        const nx = at(i + 1);
        i += (nx === "\r" || nx === "\n") && nx !== cur ? 2 : 1;
      }
    }
    const offset = out.length;
    while (i < n && (at(i) !== endChar || (isPre && !(at(i + 1) === "`" && at(i + 2) === "`")))) out += at(i++);
    if (i >= n) throw parseError(`Can't find end of the entity starting at byte offset ${byteOffset(text, begin)}`);
    const length = out.length - offset;
    if (length > 0) {
      if (c === "_") entities.push({ type: "italic", offset, length });
      else if (c === "*") entities.push({ type: "bold", offset, length });
      else if (c === "`") entities.push(isPre ? { type: "pre", offset, length, ...(language ? { language } : {}) } : { type: "code", offset, length });
      else {
        let url: string;
        if (at(i + 1) !== "(") url = text.slice(begin + 1, i);
        else {
          i += 2;
          const s = i;
          while (i < n && at(i) !== ")") i++;
          url = text.slice(s, i);
        }
        const link = checkedLink(url);
        if (link) entities.push({ type: "text_link", offset, length, url: link });
      }
    }
    if (isPre) i += 2;
  }
  return { text: out, entities: sortEntities(entities) };
}

const V2_RESERVED = "_*[]()~`>#+-=|{}.!";
const V2_NAMES: Record<string, string> = {
  bold: "Bold", italic: "Italic", underline: "Underline", strikethrough: "Strikethrough", spoiler: "Spoiler",
  text_link: "TextUrl", code: "Code", pre: "Pre", custom_emoji: "CustomEmoji",
};

/**
 * MarkdownV2, close to tdlib's parse_markdown_v2: every reserved character outside an entity must
 * be escaped, entities must be closed. (Simplified: `>` blockquote markers are accepted and dropped.)
 */
export function parseMarkdownV2(text: string): Parsed {
  const at = (k: number) => text[k] ?? "";
  const n = text.length;
  let out = "";
  const entities: Entity[] = [];
  const stack: { type: string; begin: number; offset: number; language?: string }[] = [];
  const close = (type: string, offset: number, extra: Partial<Entity> = {}) => {
    const length = out.length - offset;
    if (length > 0) entities.push({ type, offset, length, ...extra });
  };
  for (let i = 0; i < n; i++) {
    const c = at(i);
    const top = stack[stack.length - 1];
    if (top && (top.type === "code" || top.type === "pre")) {
      if (c === "\\" && (at(i + 1) === "`" || at(i + 1) === "\\")) {
        out += at(++i);
        continue;
      }
      if (top.type === "pre" ? text.startsWith("```", i) : c === "`") {
        stack.pop();
        close(top.type, top.offset, top.language ? { language: top.language } : {});
        if (top.type === "pre") i += 2;
        continue;
      }
      out += c;
      continue;
    }
    if (c === "\\") {
      const nx = at(i + 1);
      if (nx && nx.charCodeAt(0) > 0 && nx.charCodeAt(0) <= 126) {
        out += nx;
        i++;
        continue;
      }
    }
    if (top) {
      let end = false;
      let extra = 0;
      switch (top.type) {
        case "bold":
          end = c === "*";
          break;
        case "italic":
          end = c === "_" && at(i + 1) !== "_";
          break;
        case "underline":
          end = c === "_" && at(i + 1) === "_";
          extra = 1;
          break;
        case "strikethrough":
          end = c === "~";
          break;
        case "spoiler":
          end = c === "|" && at(i + 1) === "|";
          extra = 1;
          break;
        case "text_link":
        case "custom_emoji":
          end = c === "]";
          break;
      }
      if (end) {
        stack.pop();
        if (top.type === "text_link" || top.type === "custom_emoji") {
          let url = text.slice(top.begin + (top.type === "custom_emoji" ? 2 : 1), i);
          if (at(i + 1) === "(") {
            const urlBegin = i + 1;
            i += 2;
            url = "";
            while (i < n && at(i) !== ")") {
              if (at(i) === "\\" && (at(i + 1) === ")" || at(i + 1) === "\\")) i++;
              url += at(i++);
            }
            if (at(i) !== ")") throw parseError(`Can't find end of a URL at byte offset ${byteOffset(text, urlBegin)}`);
          }
          if (top.type === "text_link") {
            const link = checkedLink(url);
            if (link) close("text_link", top.offset, { url: link });
          } else {
            const id = /^tg:\/\/emoji\?id=(\d+)$/.exec(url)?.[1];
            if (!id) throw parseError(`Custom emoji URL must have an emoji identifier`);
            close("custom_emoji", top.offset, { custom_emoji_id: id });
          }
        } else {
          close(top.type, top.offset);
          i += extra;
        }
        continue;
      }
    }
    let type = "";
    let skip = 0;
    let language: string | undefined;
    if (c === "*") type = "bold";
    else if (c === "_") [type, skip] = at(i + 1) === "_" ? ["underline", 1] : ["italic", 0];
    else if (c === "~") type = "strikethrough";
    else if (c === "|" && at(i + 1) === "|") [type, skip] = ["spoiler", 1];
    else if (c === "[") type = "text_link";
    else if (c === "!" && at(i + 1) === "[") [type, skip] = ["custom_emoji", 1];
    else if (c === "`") {
      if (text.startsWith("```", i)) {
        type = "pre";
        skip = 2;
        const nl = text.indexOf("\n", i + 3);
        const tick = text.indexOf("`", i + 3);
        if (nl !== -1 && (tick === -1 || nl < tick)) {
          const lang = text.slice(i + 3, nl);
          if (lang.trim()) language = lang.trim();
          skip = nl - i;
        }
      } else type = "code";
    } else if (c === ">" && (i === 0 || at(i - 1) === "\n")) {
      continue; // blockquote line marker (entity not modelled)
    }
    if (type) {
      stack.push({ type, begin: i, offset: out.length, ...(language ? { language } : {}) });
      i += skip;
      continue;
    }
    if (V2_RESERVED.includes(c)) throw parseError(`Character '${c}' is reserved and must be escaped with the preceding '\\'`);
    out += c;
  }
  const open = stack[stack.length - 1];
  if (open) {
    throw parseError(`Can't find end of ${V2_NAMES[open.type] ?? open.type} entity at byte offset ${byteOffset(text, open.begin)}`);
  }
  return { text: out, entities: sortEntities(entities) };
}
