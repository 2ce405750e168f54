/**
 * Token saliency figure as self-contained HTML: each token on a background whose colour encodes
 * its attribution score (red positive, blue negative, opacity |score| / max |score|). Inline
 * styles only, no scripts, no network, so the same markup serves as the widget's static
 * `text/html` rendering (nbconvert, GitHub) and as the live view's content in the browser.
 */

/** Input of {@link renderSaliencyHtml}. */
export interface SaliencyFigure {
  /** Tokens in order; WordPiece continuations (`##ing`) are drawn attached to the previous token. */
  tokens: string[];
  /** One attribution score per token, any sign and scale. */
  scores: ArrayLike<number>;
  /** Optional caption. */
  title?: string;
  /** Index of a highlighted (outlined) token, or null. */
  selected?: number | null;
}

/** HTML-escapes text. */
function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * Background colour of one token.
 * @param score the token's score.
 * @param maxAbs the largest |score| of the figure (> 0).
 * @returns a CSS `rgba(...)`: red (220,38,38) for score ≥ 0, blue (37,99,235) below, alpha
 *   |score|/maxAbs rounded to 3 decimals.
 */
export function saliencyColor(score: number, maxAbs: number): string {
  const a = Math.round((Math.abs(score) / maxAbs) * 1000) / 1000;
  return score >= 0 ? `rgba(220,38,38,${a})` : `rgba(37,99,235,${a})`;
}

/**
 * Renders the figure.
 * @returns an HTML fragment (a `<div class="flowlens-saliency">`).
 * @throws Error when `tokens` and `scores` differ in length, or a score is not finite.
 */
export function renderSaliencyHtml(fig: SaliencyFigure): string {
  const { tokens, scores } = fig;
  if (tokens.length !== scores.length) {
    throw new Error(`renderSaliencyHtml: ${tokens.length} tokens but ${scores.length} scores`);
  }
  let maxAbs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new Error(`renderSaliencyHtml: scores[${i}] is ${scores[i]}, not a finite number`);
    maxAbs = Math.max(maxAbs, Math.abs(scores[i]));
  }
  const scale = maxAbs > 0 ? maxAbs : 1;
  const spans = tokens.map((t, i) => {
    const cont = t.startsWith('##') && i > 0;
    const text = cont ? t.slice(2) : t;
    const outline = fig.selected === i ? 'outline:2px solid #111;' : '';
    const margin = cont ? 'margin-left:0;' : 'margin-left:0.25em;';
    return (
      `<span data-index="${i}" title="${esc(t)}: ${Number(scores[i]).toPrecision(4)}" ` +
      `style="background:${saliencyColor(scores[i], scale)};${margin}padding:1px 2px;border-radius:3px;${outline}">${esc(text)}</span>`
    );
  });
  const title = fig.title ? `<div style="font-weight:600;margin-bottom:4px">${esc(fig.title)}</div>` : '';
  const legend =
    `<div style="font-size:11px;color:#555;margin-top:4px">` +
    `<span style="background:rgba(220,38,38,1);padding:0 6px">&nbsp;</span> positive ` +
    `<span style="background:rgba(37,99,235,1);padding:0 6px">&nbsp;</span> negative ` +
    `(opacity = |score| / ${maxAbs.toPrecision(4)})</div>`;
  return `<div class="flowlens-saliency" style="font-family:sans-serif;line-height:2">` + title + `<div>${spans.join('')}</div>` + legend + `</div>`;
}
