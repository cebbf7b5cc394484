-- Console accounts have a role (storage.models.StaffRole; admin/access.py says what each opens).
-- Accounts made before roles could do everything, and stay 運用管理 until the admin says otherwise.
ALTER TABLE admins ADD COLUMN role TEXT NOT NULL DEFAULT 'operator'
    CHECK (role IN ('operator', 'desk', 'viewer', 'auditor'));
