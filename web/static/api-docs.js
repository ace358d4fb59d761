// Starts Swagger UI on /docs (a file of its own: the Content-Security-Policy allows no
// inline script).  validatorUrl null: the default would fetch a badge from outside.
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
