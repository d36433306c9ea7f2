// Stateless counter-based randomness for dropout masks: the same (seed, sample, site, layer, head, index) always gives
// the same number, in any kernel and in the TypeScript twin (src/engine/random.ts), so masks are reproducible
// without storing them. PCG hash (Jarzynski & Olano, "Hash Functions for GPU Rendering", 2020).

fn pcg_hash(value: u32) -> u32 {
  let state = value * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

struct DropoutStream {
  seed: u32,
  sample: u32,
  site: u32,
  layer: u32,
}

// Uniform in [0, 1) with 24 bits, for one element of one head (head = 0 where a site has no heads).
fn dropout_uniform(stream: DropoutStream, head: u32, index: u32) -> f32 {
  var h = pcg_hash(stream.seed);
  h = pcg_hash(h ^ stream.sample);
  h = pcg_hash(h ^ stream.site);
  h = pcg_hash(h ^ stream.layer);
  h = pcg_hash(h ^ head);
  h = pcg_hash(h ^ index);
  return f32(h >> 8u) * (1.0 / 16777216.0);
}

// Inverted dropout: the factor to multiply a kept element by, or 0 for a dropped one.
fn dropout_factor(stream: DropoutStream, rate: f32, head: u32, index: u32) -> f32 {
  if (dropout_uniform(stream, head, index) < rate) {
    return 0.0;
  }
  return 1.0 / (1.0 - rate);
}
