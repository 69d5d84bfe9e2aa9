{
  # The SEV-SNP guest ioctl addon (src/snp/native): npm install / npm run build:native
  # produce build/Release/sevguest.node, which src/snp/native/load.ts finds from src/ or dist/.
  "targets": [
    {
      "target_name": "sevguest",
      "sources": ["src/snp/native/sevguest.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
