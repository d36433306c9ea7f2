import type { DropoutPlan, DropoutSiteName, DropoutSiteRule } from './plan';
import { DropoutSite, dropoutUniform, type DropoutStream } from './random';

/** A dropout mask switched on for one dispatch (and its CPU twin): the rate and the hash stream it draws from. */
export interface ElementDropout extends DropoutStream {
  rate: number;
}

/**
 * The hash stream of a site at a layer. It is fixed per site, so adding a site never changes an existing mask: the
 * two residual sites share the residual domain and number their sublayers 2l (attention) and 2l + 1 (MLP).
 */
export function siteStream(site: DropoutSiteName, layer: number): Pick<DropoutStream, 'site' | 'layer'> {
  switch (site) {
    case 'embedding':
      return { site: DropoutSite.Embedding, layer: 0 };
    case 'attention-probs':
      return { site: DropoutSite.Attention, layer };
    case 'attention-output':
      return { site: DropoutSite.Residual, layer: 2 * layer };
    case 'mlp-output':
      return { site: DropoutSite.Residual, layer: 2 * layer + 1 };
  }
}

function ruleAt(dropout: DropoutPlan | null, site: DropoutSiteName): DropoutSiteRule | undefined {
  return dropout?.sites.find((rule) => rule.site === site && rule.rate > 0);
}

/** The element mask of `site` at `layer` in Monte-Carlo sample `sample`, or undefined when the site keeps everything. */
export function elementDropout(dropout: DropoutPlan | null, site: DropoutSiteName, layer: number, sample: number): ElementDropout | undefined {
  const rule = ruleAt(dropout, site);
  if (!dropout || rule?.kind !== 'element') return undefined;
  return { rate: rule.rate, seed: dropout.seed, sample, ...siteStream(site, layer) };
}

/**
 * Whether sample `sample` drops the whole sublayer that writes `site` at `layer` (LayerDrop, stochastic depth). The
 * decision is one draw of its own hash domain, made on the CPU, so the plan, the FLOP count and both forwards agree.
 */
export function sublayerDropped(dropout: DropoutPlan | null, site: 'attention-output' | 'mlp-output', layer: number, sample: number): boolean {
  const rule = ruleAt(dropout, site);
  if (!dropout || rule?.kind !== 'layer') return false;
  const stream = { seed: dropout.seed, sample, site: DropoutSite.Sublayer, layer: siteStream(site, layer).layer };
  return dropoutUniform(stream, 0, 0) < Math.fround(rule.rate);
}

/** Whether any site's work differs between Monte-Carlo samples (then each sample's FLOPs are counted on their own). */
export function samplesDiffer(dropout: DropoutPlan | null): boolean {
  return (dropout?.samples ?? 1) > 1 && (dropout?.sites.some((rule) => rule.kind === 'layer' && rule.rate > 0) ?? false);
}
