// Starts Swagger UI (swagger-ui-dist, pinned in package.json and embedded in the binary) on the
// OpenAPI document of this service. An absolute URL, so /swagger and /swagger/ load the same document.
// @ts-nocheck: SwaggerUIBundle is a global of the bundle loaded before this file.
window.ui = SwaggerUIBundle({
  url: "/swagger/json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // The key typed into Authorize lives in this page only: persisted, it stayed in localStorage after
  // the dashboard's sign-out, readable by anyone at this browser.
  persistAuthorization: false,
  displayRequestDuration: true,
});
