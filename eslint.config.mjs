import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "cdktf.out/**", "modules/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    // The DSL produces the FlowModel; it must not know about synth or the runtime.
    files: ["src/flow/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: ["**/synth/**", "**/runtime-bundle/**", "**/cli/**", "cdktf", "@cdktf/*", "@aws-sdk/*"] },
      ],
    },
  },
  {
    // The router sees only the plain model (types and pure value semantics), never the DSL or cdktf.
    files: ["src/runtime-bundle/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^\\.\\./flow/(?!model/)", message: "runtime-bundle may only import src/flow/model" },
            { group: ["**/synth/**", "**/cli/**", "cdktf", "@cdktf/*"] },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: {
      globals: {
        require: "readonly",
        module: "writable",
        process: "readonly",
        __dirname: "readonly",
        console: "readonly",
      },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
