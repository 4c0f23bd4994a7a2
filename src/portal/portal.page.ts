const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

const MESSAGES = {
  expired: {
    title: 'This link has expired',
    body: 'Admin Portal links work once and only for five minutes. This one has already been used or is too old.',
  },
  unknown: {
    title: 'This link is not valid',
    body: 'The address may be incomplete: check that the whole link was copied.',
  },
} as const;

/**
 * The page a customer's IT admin sees when a portal link cannot be opened. Plain HTML with no script, so
 * it works whether or not the web app is built; the brand name is escaped (it is configuration, but
 * still text in markup). It names the app's icon: without one the browser asks for /favicon.ico, which is
 * no route here (a console error on the page).
 */
export function linkErrorPage(brandName: string, kind: keyof typeof MESSAGES): string {
  const brand = escapeHtml(brandName);
  const initial = escapeHtml(brandName.slice(0, 1).toUpperCase());
  const { title, body } = MESSAGES[kind];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<link rel="icon" type="image/svg+xml" href="/assets/favicon.svg">
<title>${title} · ${brand}</title>
<style>
  /* The web app's colours (web/src/styles/tokens.css), inlined: this page must not depend on the build. */
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; align-content: center; gap: 20px; font: 15px/1.5 ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #fbfbfc; color: #18181b; }
  main { box-sizing: border-box; width: min(400px, calc(100% - 32px)); padding: 32px; background: #fff; border: 1px solid #e4e4e9; border-radius: 12px; box-shadow: 0 1px 2px rgba(0,0,0,.04); text-align: center; }
  h1 { font-size: 1.2rem; margin: 0 0 .5rem; }
  p { margin: 0 0 .75rem; color: #52525b; }
  p:last-child { margin-bottom: 0; }
  .brand { display: flex; align-items: center; gap: 10px; font-weight: 600; }
  .mark { display: grid; place-items: center; width: 26px; height: 26px; border-radius: 7px; background: #5b5bd6; color: #fff; font-size: 14px; }
  @media (prefers-color-scheme: dark) {
    body { background: #0d0d10; color: #ededf0; }
    main { background: #16161a; border-color: #2a2a31; }
    p { color: #b4b4bd; }
    .mark { background: #7c7cf0; }
  }
</style>
</head>
<body>
<div class="brand"><span class="mark" aria-hidden="true">${initial}</span>${brand} · Admin Portal</div>
<main>
  <h1>${title}</h1>
  <p>${body}</p>
  <p>Ask your administrator for a new link.</p>
</main>
</body>
</html>
`;
}
