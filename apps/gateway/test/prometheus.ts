/** Reading Prometheus text exposition in tests. */

/** The value of one series (`name{labels}` exactly as exposed), or undefined when absent. */
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const at = line.lastIndexOf(' ');
    if (line.slice(0, at) === series) return Number(line.slice(at + 1));
  }
  return undefined;
}

/** Every metric family name a scrape exposes (from its `# TYPE` lines). */
export function metricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^# TYPE (\S+) (\S+)/.exec(line);
    if (!match) continue;
    names.add(match[1]!);
    // Histograms and summaries expose these series too.
    if (match[2] === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${match[1]}${suffix}`);
    }
    if (match[2] === 'summary') {
      for (const suffix of ['_sum', '_count']) names.add(`${match[1]}${suffix}`);
    }
  }
  return names;
}
