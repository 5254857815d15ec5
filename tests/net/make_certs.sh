#!/bin/sh
# Makes the TLS tests' certificates in $1: a test CA, a server certificate from it for
# localhost/127.0.0.1/::1, a client certificate from it, and a "rogue" self-signed
# certificate for localhost that nothing trusts. EC P-256 keys: fast to generate.
set -eu
cd "$1"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key ca.key
openssl req -x509 -new -key ca.key -out ca.pem -days 30 -subj "/CN=eddy test CA" 2>/dev/null
sign() {  # name cn extensions
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
  printf '%b' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" \
    -days 30 -extfile "$1.ext" 2>/dev/null
}
sign server localhost 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n'
sign client "eddy client" 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n'
key rogue.key
openssl req -x509 -new -key rogue.key -out rogue.pem -days 30 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
