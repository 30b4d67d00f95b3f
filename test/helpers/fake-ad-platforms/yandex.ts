// Yandex Metrica's offline-conversions upload on 127.0.0.1 (shared/reference/ad-platforms.md §4):
// POST /management/v1/counter/{counterId}/offline_conversions/upload, multipart/form-data with the
// CSV in part `file` (the reference marks the part name unverified: the fake takes `file`, as
// expected), `Authorization: OAuth <token>`. Success: 200 {"uploading": {…}}; errors:
// {"errors": [{error_type, message}], "code", "message"} — 400 invalid_parameter /
// missing_parameter, 401 unauthorized, 403 invalid_token / access_denied, 404 not_found, 503
// backend_error, 429 quota_* (the English page says 420).
import { ContractTracker, json } from "../fake-trackers/contract-tracker.ts";
import type { Behaviour, Received } from "../fake-trackers/recording-tracker.ts";

export const YANDEX_ERRORS = {
  backend_error: { status: 503, error_type: "backend_error", message: "Сервис временно недоступен" },
  quota_requests_by_uid: { status: 429, error_type: "quota_requests_by_uid", message: "Quota exceeded: requests per day by user" },
  quota_delegate_requests: { status: 420, error_type: "quota_delegate_requests", message: "Quota exceeded: parallel requests" },
  invalid_parameter: { status: 400, error_type: "invalid_parameter", message: "Некорректное значение DateTime" },
  missing_parameter: { status: 400, error_type: "missing_parameter", message: "Отсутствует обязательная колонка Target" },
  unauthorized: { status: 401, error_type: "unauthorized", message: "Authorization required" },
  invalid_token: { status: 403, error_type: "invalid_token", message: "Invalid oauth_token" },
  access_denied: { status: 403, error_type: "access_denied", message: "Access is denied" },
  not_found: { status: 404, error_type: "not_found", message: "Entity not found" },
} as const;
export type YandexErrorName = keyof typeof YANDEX_ERRORS;

export interface YandexUpload {
  counter: string;
  /** The CSV's header and rows, parsed. */
  header: string[];
  rows: string[][];
  filename: string | null;
}

/** The parts of a multipart/form-data body: name → { filename, content }. */
function parseMultipart(body: string, contentType: string): Map<string, { filename: string | null; content: string }> {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  const parts = new Map<string, { filename: string | null; content: string }>();
  if (!boundary) return parts;
  for (const chunk of body.split(`--${boundary}`).slice(1)) {
    if (chunk.startsWith("--")) break;
    const [head, ...rest] = chunk.replace(/^\r\n/, "").split("\r\n\r\n");
    const name = /name="([^"]*)"/.exec(head ?? "")?.[1];
    if (name === undefined) continue;
    parts.set(name, { filename: /filename="([^"]*)"/.exec(head ?? "")?.[1] ?? null, content: rest.join("\r\n\r\n").replace(/\r\n$/, "") });
  }
  return parts;
}

/** RFC 4180 fields of one line. */
function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") (cells.push(cur), (cur = ""));
    else cur += ch;
  }
  cells.push(cur);
  return cells;
}

export class FakeYandexMetrica extends ContractTracker {
  readonly uploads: YandexUpload[] = [];
  failWith: YandexErrorName | null = null;
  private nextId = 1;

  private constructor(public token: string, readonly counterId: string) {
    super();
  }

  static start(opts: { token: string; counterId: string }) {
    return new FakeYandexMetrica(opts.token, opts.counterId).listen();
  }

  private error(e: { status: number; error_type: string; message: string }): Behaviour {
    return json({ errors: [{ error_type: e.error_type, message: e.message }], code: e.status, message: e.message }, e.status);
  }

  protected answer(req: Received): Behaviour {
    const m = /^\/management\/v1\/counter\/([^/]+)\/offline_conversions\/upload$/.exec(req.path);
    if (!m || req.method !== "POST") return this.error(YANDEX_ERRORS.not_found);
    const auth = req.headers.authorization ?? "";
    if (!auth) return this.error(YANDEX_ERRORS.unauthorized);
    if (auth !== `OAuth ${this.token}`) return this.error(YANDEX_ERRORS.invalid_token);
    if (m[1] !== this.counterId) return this.error(YANDEX_ERRORS.access_denied);
    if (this.failWith) return this.error(YANDEX_ERRORS[this.failWith]);
    const file = parseMultipart(req.body, req.headers["content-type"] ?? "").get("file");
    if (!file) return this.error({ status: 400, error_type: "missing_parameter", message: "Required file part is missing" });
    const [headerLine = "", ...lines] = file.content.split(/\r?\n/).filter((l) => l !== "");
    const header = csvCells(headerLine);
    if (!header.some((h) => ["ClientId", "Yclid", "UserId", "PurchaseId"].includes(h))) return this.error({ ...YANDEX_ERRORS.missing_parameter, message: "Отсутствует обязательная колонка ClientId" });
    for (const column of ["Target", "DateTime"]) {
      if (!header.includes(column)) return this.error({ ...YANDEX_ERRORS.missing_parameter, message: `Отсутствует обязательная колонка ${column}` });
    }
    const rows = lines.map(csvCells);
    const at = header.indexOf("DateTime");
    if (rows.some((r) => !/^\d+$/.test(r[at] ?? "") || Number(r[at]) > Date.now() / 1000 + 60)) return this.error(YANDEX_ERRORS.invalid_parameter);
    this.uploads.push({ counter: m[1]!, header, rows, filename: file.filename });
    return json({
      uploading: {
        id: this.nextId++, create_time: new Date().toISOString().replace(/\.\d+Z$/, "Z"), source_quantity: rows.length, line_quantity: rows.length,
        comment: "", type: "BASIC", client_id_type: ({ ClientId: "CLIENT_ID", Yclid: "YCLID", UserId: "USER_ID" } as Record<string, string>)[header[0]!] ?? "CLIENT_ID", status: "UPLOADED",
        goal_not_found_quantity: 0, user_not_found_quantity: 0, linked_quantity: 0,
      },
    });
  }
}
