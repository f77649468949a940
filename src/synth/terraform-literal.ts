/**
 * Text that Terraform must take literally. Every string in Terraform JSON is a template: `${…}` is an
 * interpolation and `%{…}` a directive, so user text (SQL, a published manifest) and Athena's own
 * `${column}` placeholders are escaped as `$${` and `%%{`, which Terraform renders back as written.
 */
export function terraformLiteral(text: string): string {
  // Replacer functions: in a replacement string "$$" would itself mean one "$".
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}
