// Rules the link page adds to the explorer's stylesheet (whose colour variables it uses, so both
// schemes keep their contrast). Buttons are at least 48 px tall for thumbs.

export const LINK_STYLES = `
.link-page{max-width:40rem;margin:0 auto;overflow-wrap:anywhere}
.link-page [hidden]{display:none}
.why{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--link);border-radius:8px;padding:.6rem .9rem;margin:1rem 0}
.link-page button{font:inherit}
.wallets{list-style:none;padding:0;margin:.5rem 0 0;display:grid;gap:.5rem}
.wallet{display:flex;align-items:center;gap:.75rem;width:100%;min-height:3rem;padding:.5rem .9rem;border:1px solid var(--line);border-radius:8px;background:var(--bg);color:var(--fg);font-weight:600;text-align:left;cursor:pointer}
.wallet:hover{border-color:var(--link)}
.wallet[disabled]{opacity:.6;cursor:progress}
.wallet img{width:28px;height:28px;border-radius:6px;flex:none}
.installs{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;padding:0;list-style:none}
.message{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.75rem;margin:.5rem 0 0;font-size:.85rem;line-height:1.45}
.error{color:var(--off);background:var(--card);border:1px solid currentColor;border-radius:8px;padding:.6rem .9rem;margin:1rem 0;font-weight:600}
.progress{min-height:1.5rem;margin:1rem 0}
.done h2{color:var(--ok)}
.done:focus{outline:none}
.warn{font-weight:600}
.link-page h3{font-size:1rem;margin:1rem 0 .25rem}
.nowrap{white-space:nowrap}
.keyrow{display:flex;flex-wrap:wrap;gap:.5rem;align-items:stretch}
.keyrow code{flex:1 1 16rem;min-width:0;background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.5rem .6rem;font-size:.9rem}
.copy{min-height:2.75rem;padding:.4rem 1.1rem;border:1px solid var(--link);border-radius:6px;background:var(--link);color:var(--card);font-weight:600;cursor:pointer}
`
  .replace(/\n/g, '')
  .trim();
