// Order-preserving token compaction: keep-mask → exclusive prefix sum → scatter of the kept rows (and their original
// positions), so later layers really run on fewer tokens.

struct ScanParams {
  tokens: u32,
}

@group(0) @binding(0) var<storage, read> keep_mask: array<u32>;
@group(0) @binding(1) var<storage, read_write> offsets: array<u32>;
@group(0) @binding(2) var<uniform> params: ScanParams;

const SCAN_THREADS = 256u;
var<workgroup> partial: array<u32, SCAN_THREADS>;

// One workgroup: each thread sums a contiguous chunk, the chunk sums are scanned in shared memory (Hillis–Steele),
// then each thread writes its chunk's exclusive offsets.
@compute @workgroup_size(256)
fn prefix_sum(@builtin(local_invocation_id) local: vec3<u32>) {
  let t = local.x;
  let chunk = (params.tokens + SCAN_THREADS - 1u) / SCAN_THREADS;
  let start = t * chunk;
  let end = min(start + chunk, params.tokens);
  var sum = 0u;
  for (var i = start; i < end; i++) {
    sum += keep_mask[i];
  }
  partial[t] = sum;
  workgroupBarrier();
  for (var stride = 1u; stride < SCAN_THREADS; stride *= 2u) {
    var add = 0u;
    if (t >= stride) {
      add = partial[t - stride];
    }
    workgroupBarrier();
    partial[t] += add;
    workgroupBarrier();
  }
  var running = partial[t] - sum;
  for (var i = start; i < end; i++) {
    offsets[i] = running;
    running += keep_mask[i];
  }
}
