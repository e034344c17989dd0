package dev.shears.trainer.data;

/**
 * A dataset file is missing, unreadable or not in the expected format. The message names the
 * file, what was expected, what was found, and how to fix it.
 */
public class DatasetException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    DatasetException(String message) {
        super(message);
    }

    DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
