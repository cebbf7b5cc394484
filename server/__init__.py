"""The house the surfaces live in: the application factory that mounts the chat, My page, the
console and the scheduler over one services object, /metrics, and the setup check."""
