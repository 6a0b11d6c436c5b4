"""The operations dashboard: static files (index.html, app.js, css, i18n, vendored libraries)
served by :mod:`lifeline.api` at ``/``. No build step: the libraries are vendored from npm."""
