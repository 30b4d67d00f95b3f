// What the parse_mode parsers share: the MessageEntity they produce, Telegram's link check, its
// "can't parse entities" error with byte offsets, and Telegram's order of entities.
import { BotApiError } from "./types.ts";

export interface Entity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
  custom_emoji_id?: string;
}

export interface Parsed {
  text: string;
  entities: Entity[];
}

export const byteOffset = (text: string, i: number) => Buffer.byteLength(text.slice(0, i), "utf8");
export const isSpace = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\v" || c === "\f";
export const parseError = (msg: string) => new BotApiError(400, `Bad Request: can't parse entities: ${msg}`);

/** Telegram's check for a link: http(s)/tg/ton, bare domains get http://. Returns "" if invalid. */
export function checkedLink(raw: string): string {
  const s = raw.trim();
  if (!s) return "";
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(s) ? s : `http://${s}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    return "";
  }
  if (u.protocol === "http:" || u.protocol === "https:") return u.hostname ? u.href : "";
  if (u.protocol === "tg:" || u.protocol === "ton:") return u.href;
  return "";
}

/** In Telegram's order: by offset, the longer (outer) entity first. */
export function sortEntities(entities: Entity[]): Entity[] {
  return entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
}
