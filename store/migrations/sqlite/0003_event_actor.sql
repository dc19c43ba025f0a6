-- Admin events name who acted: "cli:<os user>" for the command line.
ALTER TABLE events ADD COLUMN actor TEXT;
