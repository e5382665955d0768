{
  # The libpcap capture addon (native/). Built by npm's own node-gyp from the "install"
  # script; loaded by src/capture/pcap.ts from build/Release/tunnelhound_pcap.node.
  "targets": [
    {
      "target_name": "tunnelhound_pcap",
      "sources": [
        "native/addon.cc",
        "native/capture-core.cc",
        "native/pcap-handle.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      # Node-API 8 is in every Node >= 20 we support; instance data (per-environment state,
      # needed for worker_threads) arrived in 6. C++ exceptions stay off (node's default
      # -fno-exceptions) and node-addon-api reports errors as pending JS exceptions, so no
      # C++ exception can cross into JavaScript. A read that completes while a worker thread
      # is being torn down cannot call back into JS; without SWALLOW_UNTHROWABLE that
      # failed napi_throw is a fatal error that takes the whole process down.
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"],
      "libraries": ["-lpcap"],
      "xcode_settings": {
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_ENABLE_CPP_EXCEPTIONS": "NO",
        "OTHER_LDFLAGS": ["-lpcap"]
      }
    }
  ]
}
