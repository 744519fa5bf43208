// Parse Mermaid diagrams with the real mermaid parser under Node.
// Usage: node check.mjs FILE...  (a file may be a bare diagram or Markdown
// with ```mermaid fences; every diagram found is parsed). Exit 1 on any error.
import { JSDOM } from "jsdom";
import { readFileSync } from "node:fs";

const dom = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;
globalThis.Element = dom.window.Element;
globalThis.HTMLElement = dom.window.HTMLElement;
globalThis.SVGElement = dom.window.SVGElement;
if (!("navigator" in globalThis)) globalThis.navigator = dom.window.navigator;

const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

function diagrams(text) {
  const fenced = [...text.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]);
  return fenced.length > 0 ? fenced : [text];
}

let failed = 0;
let parsed = 0;
for (const file of process.argv.slice(2)) {
  for (const d of diagrams(readFileSync(file, "utf8"))) {
    try {
      const r = await mermaid.parse(d);
      if (!r || r.diagramType !== "flowchart-v2") {
        throw new Error(`unexpected diagram type ${r && r.diagramType}`);
      }
      parsed++;
    } catch (e) {
      failed++;
      console.error(`${file}: ${String(e.message || e).split("\n").slice(0, 4).join(" ")}`);
    }
  }
}
console.log(`mermaid: ${parsed} diagram(s) parsed, ${failed} failed`);
process.exit(failed > 0 || parsed === 0 ? 1 : 0);
