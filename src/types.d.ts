declare module "*.sql" {
  const text: string;
  export default text;
}

// Files embedded in the binary (`import path from "…" with { type: "file" }`): the import is the
// file's path (inside the executable once compiled), served with Bun.file.
declare module "*.html" {
  const path: string;
  export default path;
}
declare module "*.css" {
  const path: string;
  export default path;
}
declare module "*.client.js" {
  const path: string;
  export default path;
}
declare module "*.svg" {
  const path: string;
  export default path;
}
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const path: string;
  export default path;
}
