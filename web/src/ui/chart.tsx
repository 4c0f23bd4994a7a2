import { useEffect, useRef, useState, type ReactNode } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatCompact, formatNumber } from '../lib/format';
import { useTheme } from '../lib/theme';

export interface ChartPoint {
  /** Bucket start, ISO. */
  bucket: string;
  count: number;
}

/**
 * Every bucket of [rangeStart, rangeEnd), with zero where the API returned none (it lists only buckets
 * that have events). Without the empty ones a chart of one busy day would stretch that day across the
 * whole axis, and the screen-reader table would skip quiet days.
 */
export function fillBuckets(points: readonly ChartPoint[], rangeStart: string, rangeEnd: string, interval: 'day' | 'hour'): ChartPoint[] {
  const step = interval === 'hour' ? 3_600_000 : 86_400_000;
  const counts = new Map(points.map((point) => [new Date(point.bucket).getTime(), point.count]));
  const filled: ChartPoint[] = [];
  // Buckets start on whole UTC hours/days (date_trunc in UTC), whatever the range's start.
  const first = Math.floor(new Date(rangeStart).getTime() / step) * step;
  const end = new Date(rangeEnd).getTime();
  for (let time = first; time < end && filled.length <= 1000; time += step) {
    filled.push({ bucket: new Date(time).toISOString(), count: counts.get(time) ?? 0 });
  }
  return filled;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

const dayLabel = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric' });
const hourLabel = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });

/**
 * Event volume as bars (uPlot on a canvas). A visually hidden table carries the same numbers for screen
 * readers, and a tooltip follows the cursor.
 */
export function VolumeChart({ points, interval = 'day', label, height = 240 }: { points: ChartPoint[]; interval?: 'day' | 'hour'; label: string; height?: number }) {
  const container = useRef<HTMLDivElement>(null);
  const [tip, setTip] = useState<{ left: number; top: number; text: string; value: number } | null>(null);
  const [theme] = useTheme();

  useEffect(() => {
    const element = container.current;
    if (element === null) return;
    const xs = points.map((point) => new Date(point.bucket).getTime() / 1000);
    const ys = points.map((point) => point.count);
    const accent = cssVar('--chart-1');
    const grid = cssVar('--chart-grid');
    const axisText = cssVar('--text-tertiary');
    const font = `11px ${cssVar('--font-sans')}`;
    const format = interval === 'hour' ? hourLabel : dayLabel;
    const bars = uPlot.paths.bars?.({ size: [0.72, 28], radius: 0.18 });
    const options: uPlot.Options = {
      width: element.clientWidth,
      height,
      padding: [8, 8, 0, 0],
      cursor: { y: false, points: { show: false }, drag: { x: false, y: false } },
      legend: { show: false },
      scales: {
        x: {
          time: true,
          // Half a bucket of room on each side, so the first and last bars are not cut in half.
          range: (_u, min, max) => {
            const half = (interval === 'hour' ? 3600 : 86_400) / 2;
            return [min - half, max + half];
          },
        },
        y: { range: (_u, _min, max) => [0, Math.max(4, max * 1.12)] } },
      axes: [
        {
          stroke: axisText,
          font,
          grid: { show: false },
          ticks: { show: false },
          size: 30,
          gap: 8,
          values: (_u, splits) => splits.map((value) => dayLabel.format(new Date(value * 1000))),
        },
        {
          stroke: axisText,
          font,
          size: 48,
          gap: 8,
          grid: { stroke: grid, width: 1 },
          ticks: { show: false },
          values: (_u, splits) => splits.map((value) => formatCompact(value)),
        },
      ],
      series: [{}, { label: 'Events', stroke: accent, fill: accent, width: 0, paths: bars, points: { show: false } }],
      hooks: {
        setCursor: [
          (u) => {
            const index = u.cursor.idx;
            if (index === null || index === undefined || u.cursor.left === undefined || u.cursor.left < 0) {
              setTip(null);
              return;
            }
            const x = xs[index];
            const y = ys[index];
            if (x === undefined || y === undefined) return;
            setTip({ left: u.valToPos(x, 'x') + u.over.offsetLeft, top: u.valToPos(y, 'y') + u.over.offsetTop, text: format.format(new Date(x * 1000)), value: y });
          },
        ],
      },
    };
    const plot = new uPlot(options, [xs, ys], element);
    const observer = new ResizeObserver(() => plot.setSize({ width: element.clientWidth, height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [points, interval, height, theme]);

  return (
    <figure style={{ margin: 0 }}>
      <div className="chart" ref={container} style={{ height }} role="img" aria-label={label}>
        {tip !== null && (
          <div className="chart-tooltip" style={{ left: tip.left + 10, top: Math.max(0, tip.top - 36) }}>
            <span className="muted">{tip.text}</span> · <b>{formatNumber(tip.value)}</b> events
          </div>
        )}
      </div>
      {/* The hidden box is a div: a table ignores the 1px height and, absolutely placed, lengthened the page. */}
      <div className="sr-only">
        <table>
          <caption>{label}</caption>
          <tbody>
            {points.map((point) => (
              <tr key={point.bucket}>
                <th scope="row">{point.bucket}</th>
                <td>{point.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}

export function BarList({ items, label }: { items: { key: string; label: ReactNode; value: number }[]; label: string }) {
  const max = Math.max(1, ...items.map((item) => item.value));
  return (
    <ul className="bar-list" aria-label={label}>
      {items.map((item) => (
        <li key={item.key}>
          <span className="bar" style={{ width: `${Math.max(2, (item.value / max) * 100)}%` }} aria-hidden="true" />
          <span className="label">{item.label}</span>
          <span className="value">{formatNumber(item.value)}</span>
        </li>
      ))}
    </ul>
  );
}
