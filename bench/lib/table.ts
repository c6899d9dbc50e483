/** The results as a text table, then how each figure was measured. */
import type { Figure } from './figure.js';

export function formatValue(value: number, unit: string): string {
  if (unit === 'USD') return `$${value}`;
  return `${value} ${unit}`;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

export function formatTable(figures: Figure[]): string {
  const header = ['#', 'section', 'figure', 'value', 'baseline', 'ratio', 'goal'];
  const rows = figures.map((figure, index) => [
    String(index + 1),
    figure.section,
    figure.name,
    formatValue(figure.value, figure.unit),
    figure.baseline ? formatValue(figure.baseline.value, figure.baseline.unit) : '-',
    figure.ratio === undefined ? '-' : `${figure.ratio}x`,
    figure.goal ? `${figure.goal.met ? 'met' : 'MISSED'} (${figure.goal.text})` : '-',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => pad(cell, widths[column])).join('  ').trimEnd();
  const how = figures.map(
    (figure, index) => `${index + 1}. ${figure.how}${figure.baseline ? `. Baseline: ${figure.baseline.name}` : ''}.`,
  );
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), '', 'How each figure was measured:', ...how].join('\n');
}
