package dev.hopper.ops.publish;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads a UTF-8 JSON-lines file line by line, skipping blank lines and counting from 1. Stateless. */
final class NumberedLines {
    /** What to do with one non-blank line. */
    @FunctionalInterface
    interface LineHandler {
        void accept(int number, String line) throws IOException;
    }

    private NumberedLines() {}

    static void read(Path file, LineHandler handler) throws IOException {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (!line.isBlank()) {
                    handler.accept(number, line);
                }
            }
        }
    }
}
