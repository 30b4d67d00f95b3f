// Starts Swagger UI (swagger-ui-dist, pinned in package.json and embedded in the binary) on the
// OpenAPI document of this service. An absolute URL, so /swagger and /swagger/ load the same document.
// @ts-nocheck: SwaggerUIBundle is a global of the bundle loaded before this file.
window.ui = SwaggerUIBundle({
  url: "/swagger/json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  displayRequestDuration: true,
});
