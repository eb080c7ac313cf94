"""National cryptography (GB/T 39786): key ring, SM4-GCM fields, blind index, SM2 signatures."""
