#!/usr/bin/env bash
# Install the Debian packages the tests and the full feature set use, when missing.
# Safe to run repeatedly: it only calls apt-get when something is absent.
#   LibreOffice (legacy .doc/.xls conversion, PDF rendering of catalogues), Tesseract with
#   Simplified and Traditional Chinese (OCR), Redis (scale-out tests), rclone (benchmark
#   baseline), Chromium + driver (browser tests), poppler-utils (pdftoppm), CJK fonts, and the
#   shared libraries OpenCV (pulled in by RapidOCR, the OCR recogniser) loads: libGL, GLib.
set -euo pipefail
PKGS=(libreoffice-writer-nogui libreoffice-calc-nogui fonts-noto-cjk tesseract-ocr tesseract-ocr-chi-sim
      tesseract-ocr-chi-tra redis-server rclone poppler-utils chromium chromium-driver libgl1 libglib2.0-0)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "missing Debian packages (run as root to install): ${missing[*]}" >&2; exit 1; fi
else SUDO=""; fi
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
