/**
 * Approximate text widths for the SVG layout, without a font engine: Helvetica's advance widths
 * (1/1000 em) for printable ASCII, a middle value for everything else, and a margin so that wider
 * fallbacks of the font stack (DejaVu Sans, Segoe UI) still fit in their boxes.
 */

// prettier-ignore
const HELVETICA: readonly number[] = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space ! " # $ % & ' ( ) * + , - . /
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0-9 : ; < = > ?
  1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @ A-O
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P-Z [ \ ] ^ _
  333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // ` a-o
  556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p-z { | } ~
];

const OTHER = 600;
const SAFETY = 1.16;
const BOLD = 1.07;

/** Width in px of `text` set in the font stack at `size` px. */
export function textWidth(text: string, size: number, bold = false): number {
  let units = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    units += code >= 32 && code <= 126 ? (HELVETICA[code - 32] ?? OTHER) : OTHER;
  }
  return (units / 1000) * size * SAFETY * (bold ? BOLD : 1);
}
