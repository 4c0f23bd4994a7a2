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
    body: 'The address may be incomplete. Copy the whole link, or ask for a new one.',
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
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; background: #f6f7f9; color: #1b1f24; }
  main { max-width: 28rem; margin: 1.5rem; padding: 2rem; background: #fff; border: 1px solid #e3e6ea; border-radius: 12px; box-shadow: 0 1px 3px rgba(0,0,0,.06); }
  h1 { font-size: 1.25rem; margin: 0 0 .5rem; }
  p { margin: 0 0 1rem; color: #454c55; }
  .brand { font-size: .875rem; font-weight: 600; letter-spacing: .02em; color: #5b6470; margin-bottom: 1.25rem; }
  @media (prefers-color-scheme: dark) {
    body { background: #0f1216; color: #e8eaed; }
    main { background: #171b21; border-color: #2a3038; }
    p, .brand { color: #aab2bd; }
  }
</style>
</head>
<body>
<main>
  <div class="brand">${brand} · Admin Portal</div>
  <h1>${title}</h1>
  <p>${body}</p>
  <p>Ask your administrator for a new link.</p>
</main>
</body>
</html>
`;
}
