// The API documentation page (/api/v1/docs): Swagger UI from npm, served by this server,
// reading /api/v1/openapi.json. No online validator, no CDN: branches run offline.
(function () {
  "use strict";
  window.SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    docExpansion: "list",
    tryItOutEnabled: false,
  });
})();
