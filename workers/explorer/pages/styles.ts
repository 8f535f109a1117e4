// The pages' only stylesheet, inlined: no font, no framework, both colour schemes. Colours were
// chosen for at least 4.5:1 text contrast on their background in each scheme.

export const STYLES = `
:root{color-scheme:light dark;--bg:#f6f6f3;--card:#fff;--fg:#1b1d21;--muted:#515863;--line:#d3d7dd;--link:#1d4ed8;--focus:#b45309;
--sea:#e6eef5;--land:#cdd6df;--border:#f6f8fa;--dot:#c2410c;--sim:#6d28d9;--ok:#166534;--off:#9f1239;
--rewards:#0f766e;--burn:#b91c1c;--emission:#6d28d9}
@media (prefers-color-scheme:dark){:root{--bg:#0f1216;--card:#171b21;--fg:#e8eaed;--muted:#a7afba;--line:#2f3742;--link:#93c5fd;--focus:#fbbf24;
--sea:#14202c;--land:#2c3846;--border:#14202c;--dot:#fb923c;--sim:#c4b5fd;--ok:#86efac;--off:#fda4af;
--rewards:#5eead4;--burn:#fca5a5;--emission:#c4b5fd}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
a{color:var(--link)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px;border-radius:2px}
.skip{position:absolute;left:-999px;top:0;background:var(--card);padding:.5rem 1rem}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
.skip:focus{left:.5rem;top:.5rem;z-index:1}
.top{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:baseline;padding:.75rem 1rem;border-bottom:1px solid var(--line);background:var(--card)}
.brand{font-weight:700;font-size:1.15rem;color:var(--fg);text-decoration:none}
.top nav{display:flex;gap:1rem;flex-wrap:wrap}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.5rem 0}
h2{font-size:1.15rem;margin:0 0 .5rem}
.lede,.muted,.note,.empty{color:var(--muted)}
.stats{list-style:none;padding:0;margin:1rem 0;display:grid;gap:.75rem;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr))}
.stats li,.panel{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.75rem 1rem}
.stats .label{display:block;font-size:.9rem;color:var(--muted)}
.stats .value{display:block;font-size:1.6rem;font-weight:700;font-variant-numeric:tabular-nums}
.stats .note{display:block;font-size:.85rem}
.panel{margin:1rem 0}
.grid2{display:grid;gap:0 1rem;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr))}
figure{margin:0}
.map{display:block;width:100%;height:auto;background:var(--sea);border-radius:6px}
.map .land{fill:var(--land)}
.map .borders{fill:none;stroke:var(--border);stroke-width:.35}
.dot-real{fill:var(--dot);fill-opacity:.85;stroke:var(--card);stroke-width:.5}
.dot-sim{fill:none;stroke:var(--sim);stroke-width:1;stroke-dasharray:1.5 1}
.legend{list-style:none;padding:0;margin:.5rem 0;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;font-size:.9rem}
.legend svg{vertical-align:middle;margin-right:.35rem}
.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.35rem;vertical-align:middle}
.chart{width:100%;max-height:10rem}
.bar-rewards{fill:var(--rewards);background:var(--rewards)}.bar-burn{fill:var(--burn);background:var(--burn)}.bar-emission{fill:var(--emission);background:var(--emission)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
td.n,th.n{text-align:right}
thead th{font-size:.9rem;color:var(--muted)}
.tag{display:inline-block;font-size:.8rem;padding:0 .45rem;border-radius:999px;border:1px solid currentColor;margin-left:.35rem;white-space:nowrap}
.tag.sim{color:var(--sim)}.status-online{color:var(--ok)}.status-offline{color:var(--off)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
code{font-size:.9em;overflow-wrap:anywhere}
footer{max-width:72rem;margin:0 auto;padding:1rem;color:var(--muted);font-size:.9rem}
`
  .replace(/\n/g, '')
  .trim();
