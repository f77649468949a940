/**
 * References to AWS resources and data sources inside Terraform JSON string templates.
 *
 * A Terraform JSON string is a template: literal text with `${ expr }` interpolations and
 * `%{ directive }`s, whose expressions may themselves hold quoted templates (cdktf writes
 * `"${substr(\"app-${data.aws_region.r.region}\", 0, 63)}"`). The scanner below walks that grammar
 * just far enough to find traversals such as `aws_s3_bucket.b.arn`, `aws_sqs_queue.q["k"].url` or
 * `data.aws_region.r.region` in expression position (never in literal text) and replace them.
 */

/** A reference to an AWS resource or data source, as found in an expression. */
export interface AwsReference {
  readonly mode: "managed" | "data";
  /** The AWS type, e.g. `aws_s3_bucket`. */
  readonly type: string;
  readonly name: string;
  /** The instance key expression between the brackets (its own references rewritten), if any. */
  readonly index?: string;
  /** The attribute read, e.g. `arn`; absent for a reference to the whole resource. */
  readonly attribute?: string;
  /** The reference as written, for messages. */
  readonly text: string;
}

/** Gives the expression that replaces a reference. */
export type ReferenceRewriter = (reference: AwsReference) => string;

/** Rewrites the AWS references in the expressions of a Terraform JSON string template. */
export function rewriteTemplate(template: string, rewrite: ReferenceRewriter): string {
  if (!template.includes("{")) return template;
  const scanner = new Scanner(template, rewrite);
  const out = scanner.template(false);
  if (scanner.pos < template.length) throw new Error(`Unbalanced template: ${template}`);
  return out;
}

/** Whether a string template holds any interpolation or directive (i.e. is not a literal). */
export function isLiteralTemplate(template: string): boolean {
  return !/(^|[^$])\$\{|(^|[^%])%\{/.test(template);
}

/** Escapes a literal so that Terraform reads it back unchanged from a JSON string template. */
export function escapeTemplate(literal: string): string {
  return literal.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

/**
 * A bare address (`aws_s3_bucket.b`, `data.aws_region.r`, as in `depends_on`), or undefined when the
 * text is not one of an AWS resource or data source.
 */
export function parseAwsAddress(
  text: string,
): { mode: "managed" | "data"; type: string; name: string } | undefined {
  const m = /^(?:\$\{)?(data\.)?(aws_[a-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_-]*)(?:\})?$/.exec(text.trim());
  if (!m) return undefined;
  return { mode: m[1] ? "data" : "managed", type: m[2] as string, name: m[3] as string };
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_CHAR = /[A-Za-z0-9_-]/;
const CLOSERS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };

class Scanner {
  pos = 0;
  constructor(
    private readonly s: string,
    private readonly rewrite: ReferenceRewriter,
  ) {}

  /** Literal text and interpolations, up to the end (or, quoted, up to the closing quote). */
  template(quoted: boolean): string {
    const s = this.s;
    let out = "";
    while (this.pos < s.length) {
      const c = s[this.pos] as string;
      if (quoted && c === '"') return out;
      if (quoted && c === "\\") {
        out += s.slice(this.pos, this.pos + 2);
        this.pos += 2;
        continue;
      }
      if ((c === "$" || c === "%") && s[this.pos + 1] === c && s[this.pos + 2] === "{") {
        out += s.slice(this.pos, this.pos + 3); // $${ and %%{ are escapes
        this.pos += 3;
        continue;
      }
      if ((c === "$" || c === "%") && s[this.pos + 1] === "{") {
        this.pos += 2;
        out += `${c}{${this.expression("}")}}`;
        this.pos++;
        continue;
      }
      out += c;
      this.pos++;
    }
    if (quoted) throw new Error(`Unterminated string in template: ${s}`);
    return out;
  }

  /** An expression up to `closer` at depth 0 (left at the closer). */
  expression(closer: string): string {
    const s = this.s;
    const stack: string[] = [];
    let out = "";
    while (this.pos < s.length) {
      const c = s[this.pos] as string;
      if (c === '"') {
        this.pos++;
        out += `"${this.template(true)}"`;
        this.pos++;
      } else if (c === "<" && s[this.pos + 1] === "<") {
        throw new Error(`Heredoc templates are not supported in JSON expressions: ${s}`);
      } else if (c in CLOSERS) {
        stack.push(CLOSERS[c] as string);
        out += c;
        this.pos++;
      } else if (c === ")" || c === "]" || c === "}") {
        if (stack.length === 0) {
          if (c === closer) return out;
          throw new Error(`Unbalanced '${c}' in template: ${s}`);
        }
        stack.pop();
        out += c;
        this.pos++;
      } else if (IDENT_START.test(c) && !this.afterTraversal()) {
        out += this.identifier();
      } else {
        out += c;
        this.pos++;
      }
    }
    throw new Error(`Unterminated interpolation in template: ${s}`);
  }

  /** Whether the identifier at pos continues a traversal or a number (`local.aws_x`, `1e3`). */
  private afterTraversal(): boolean {
    const prev = this.s[this.pos - 1];
    return prev !== undefined && (prev === "." || IDENT_CHAR.test(prev));
  }

  private readIdent(): string {
    const start = this.pos;
    if (!IDENT_START.test(this.s[this.pos] ?? "")) return "";
    while (this.pos < this.s.length && IDENT_CHAR.test(this.s[this.pos] as string)) this.pos++;
    return this.s.slice(start, this.pos);
  }

  /** An identifier, and when it starts an AWS reference, the whole reference rewritten. */
  private identifier(): string {
    const s = this.s;
    const start = this.pos;
    const first = this.readIdent();
    let mode: "managed" | "data";
    let type: string;
    if (first === "data" && s.startsWith(".aws_", this.pos)) {
      this.pos++;
      type = this.readIdent();
      mode = "data";
    } else if (first.startsWith("aws_") && s[this.pos] === ".") {
      type = first;
      mode = "managed";
    } else {
      return first;
    }
    if (s[this.pos] !== ".") throw new Error(`Incomplete reference '${s.slice(start, this.pos)}' in: ${s}`);
    this.pos++;
    const name = this.readIdent();
    if (!name) throw new Error(`Incomplete reference '${s.slice(start, this.pos)}' in: ${s}`);
    if (s.startsWith(".*", this.pos) || s.startsWith("[*]", this.pos)) {
      throw new Error(`Splat references are not supported: '${s.slice(start, this.pos + 3)}' in: ${s}`);
    }
    let index: string | undefined;
    if (s[this.pos] === "[") {
      this.pos++;
      index = this.expression("]");
      this.pos++;
    }
    let attribute: string | undefined;
    if (s[this.pos] === "." && IDENT_START.test(s[this.pos + 1] ?? "")) {
      this.pos++;
      attribute = this.readIdent();
    }
    return this.rewrite({
      mode,
      type,
      name,
      ...(index !== undefined ? { index } : {}),
      ...(attribute !== undefined ? { attribute } : {}),
      text: s.slice(start, this.pos),
    });
  }
}
