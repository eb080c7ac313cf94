// A picture of the screen for a feedback, as a PNG Blob: captured with the browser's own
// screen sharing (the user picks this tab; nothing is installed) or made from an image file
// the user picks. Either way it is redrawn on a canvas, so what is sent is always a PNG, and
// made smaller until it fits the server's limit.

const MAX_BYTES = 1_500_000;  // WARROOM_OPS_FEEDBACK_SCREENSHOT_BYTES's default
const MAX_SIDE_PX = 2560;

function pngOf(source, width, height, scale) {
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  canvas.getContext("2d").drawImage(source, 0, 0, canvas.width, canvas.height);
  return new Promise(resolve => canvas.toBlob(resolve, "image/png"));
}

// Redraw ``source`` as a PNG within the size limit; null if even a small one is too large.
async function fitted(source, width, height) {
  let scale = Math.min(1, MAX_SIDE_PX / Math.max(width, height));
  for (let attempt = 0; attempt < 4; attempt += 1, scale *= 0.7) {
    const blob = await pngOf(source, width, height, scale);
    if (blob && blob.size <= MAX_BYTES) return blob;
  }
  return null;
}

export async function pngFromFile(file) {
  const bitmap = await createImageBitmap(file);  // refuses what is not an image
  try {
    return await fitted(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

export const canCapture = () => Boolean(navigator.mediaDevices?.getDisplayMedia);

export async function captureScreen() {
  const stream = await navigator.mediaDevices.getDisplayMedia({
    video: { displaySurface: "browser" }, audio: false, preferCurrentTab: true,
  });
  try {
    const video = document.createElement("video");
    video.muted = true;
    video.srcObject = stream;
    await video.play();
    await new Promise(resolve => requestAnimationFrame(resolve));  // a painted frame
    return await fitted(video, video.videoWidth, video.videoHeight);
  } finally {
    stream.getTracks().forEach(track => track.stop());
  }
}
