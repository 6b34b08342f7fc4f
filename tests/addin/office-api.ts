/**
 * Lists every Office.js API the add-in calls, with the requirement set its type declarations name
 * ("[Api set: ExcelApi 1.13]" in @types/office-js and friends), found by the TypeScript checker: a call is
 * what the code resolves to, not a text match. A use counts as guarded when an enclosing condition checks
 * that set at that version or above (has('ExcelApi', '1.13') or Office.context.requirements.isSetSupported).
 */
import ts from 'typescript';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface ApiUse {
  api: string;
  set: string;
  version: string;
  file: string;
  line: number;
  guarded: boolean;
}

export function versionAtLeast(have: string, want: string): boolean {
  const [a, b = 0] = have.split('.').map(Number);
  const [c, d = 0] = want.split('.').map(Number);
  return a > c || (a === c && b >= d);
}

export function sourceFiles(dir: string, skip: (p: string) => boolean): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (skip(p)) continue;
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p, skip));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const SET_TAG = /\[Api set: ([A-Za-z]+) (\d+\.\d+)/;
const GUARD = /(?:has|isSetSupported)\(\s*['"]([A-Za-z]+)['"]\s*,\s*['"](\d+\.\d+)['"]/g;

function guards(node: ts.Node, sf: ts.SourceFile): { set: string; version: string }[] {
  const out: { set: string; version: string }[] = [];
  for (let n: ts.Node | undefined = node; n; n = n.parent) {
    const p: ts.Node | undefined = n.parent;
    if (!p) break;
    let cond: ts.Expression | undefined;
    if (ts.isIfStatement(p) && p.thenStatement === n) cond = p.expression;
    else if (ts.isConditionalExpression(p) && p.whenTrue === n) cond = p.condition;
    else if (
      ts.isBinaryExpression(p) &&
      p.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken &&
      p.right === n
    )
      cond = p.left;
    if (cond) for (const m of cond.getText(sf).matchAll(GUARD)) out.push({ set: m[1], version: m[2] });
  }
  return out;
}

/** Every use of an API that carries a requirement set, in the given files (sources, or in-memory text for tests). */
export function officeApiUses(files: string[], root: string, inline?: Record<string, string>): ApiUse[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: ['office-js', 'office-runtime', 'custom-functions-runtime'],
    typeRoots: [join(root, 'node_modules/@types')],
  };
  const host = ts.createCompilerHost(options);
  if (inline) {
    const read = host.readFile.bind(host);
    const exists = host.fileExists.bind(host);
    const get = host.getSourceFile.bind(host);
    host.readFile = (f) => inline[f] ?? read(f);
    host.fileExists = (f) => f in inline || exists(f);
    host.getSourceFile = (f, l, ...rest) => (f in inline ? ts.createSourceFile(f, inline[f], l) : get(f, l, ...rest));
  }
  const program = ts.createProgram(files, options, host);
  const checker = program.getTypeChecker();
  const uses: ApiUse[] = [];
  for (const sf of program.getSourceFiles()) {
    if (!files.includes(sf.fileName)) continue;
    const visit = (node: ts.Node) => {
      let name: ts.Node | undefined;
      if (ts.isPropertyAccessExpression(node)) name = node.name;
      else if (ts.isNewExpression(node)) name = node.expression;
      if (name) {
        const sym = checker.getSymbolAtLocation(name);
        const decl = sym?.declarations?.[0];
        const file = decl?.getSourceFile().fileName ?? '';
        if (decl && /@types\/(office-js|office-runtime|custom-functions-runtime)\//.test(file)) {
          const text = decl.getFullText().slice(0, decl.getLeadingTriviaWidth());
          const m = SET_TAG.exec(text);
          if (m) {
            const g = guards(node, sf);
            uses.push({
              api: checker.getFullyQualifiedName(sym!).replace(/^"[^"]*"\./, ''),
              set: m[1],
              version: m[2],
              file: sf.fileName.replace(`${root}/`, ''),
              line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1,
              guarded: g.some((x) => x.set === m[1] && versionAtLeast(x.version, m[2])),
            });
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return uses;
}

/** The requirement sets a manifest declares (<Requirements><Sets><Set Name MinVersion>). */
export function declaredSets(manifestXml: string): Record<string, string> {
  const req = manifestXml.slice(manifestXml.indexOf('<Requirements>'), manifestXml.indexOf('</Requirements>'));
  const out: Record<string, string> = {};
  for (const m of req.matchAll(/<Set Name="([A-Za-z]+)" MinVersion="(\d+\.\d+)"\s*\/>/g)) out[m[1]] = m[2];
  return out;
}

export function readText(p: string): string {
  return readFileSync(p, 'utf8');
}
