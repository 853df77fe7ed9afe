// Runs an ONNX model with ONNX Runtime (npm's onnxruntime-node, CPU) on raw
// float32 NCHW images, one at a time, and writes the logits as raw float32.
//   node ort_logits.js <onnxruntime-node dir> model.onnx images.f32 count C H W logits.f32
const fs = require('fs');
const [ortDir, model, imagesPath, count, c, h, w, out] = process.argv.slice(2);
const ort = require(ortDir);
(async () => {
  const session = await ort.InferenceSession.create(model);
  const bytes = fs.readFileSync(imagesPath);
  const images = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const size = c * h * w;
  const logits = [];
  for (let i = 0; i < count; ++i) {
    const x = new ort.Tensor('float32', images.slice(i * size, (i + 1) * size), [1, +c, +h, +w]);
    const result = await session.run({[session.inputNames[0]]: x});
    logits.push(...result[session.outputNames[0]].data);
  }
  fs.writeFileSync(out, Buffer.from(new Float32Array(logits).buffer));
})().catch((e) => {
  console.error('ort_logits: ' + e);
  process.exit(1);
});
