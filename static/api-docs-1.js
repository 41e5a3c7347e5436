// Renders the native API's OpenAPI document (/api/openapi.json) with
// Swagger UI, vendored under /static/vendor.
window.addEventListener("DOMContentLoaded", function () {
  SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#api-docs",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    defaultModelsExpandDepth: 0,
  });
});
