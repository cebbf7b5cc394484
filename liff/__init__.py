"""My page (LIFF, inside LINE) and the invite QR codes: a sub-app behind a guard that verifies
the LINE ID token."""
