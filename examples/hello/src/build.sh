#!/bin/sh
# Runs inside the sandbox: the input root is read-only except the working
# directory's outputs and /tmp; nothing from the host is visible.
set -e
mkdir -p install/bin install/share/hello
cat > install/bin/hello <<'SCRIPT'
#!/bin/sh
echo "Hello from a sandboxed build!"
SCRIPT
chmod 0755 install/bin/hello
echo "built by $(id -u):$(id -g) on $(hostname) with PATH=$PATH" > install/share/hello/build-info
ls -l install/bin
echo "build finished"
