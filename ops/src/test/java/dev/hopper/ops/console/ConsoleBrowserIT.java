package dev.hopper.ops.console;

import static dev.hopper.ops.console.ConsoleFixture.depth;
import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Connection;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console in headless Chromium, as an operator uses it: overview, filter, one letter, a dry run then a replay of
 * a group with the count dropping; a {@code <script>} payload shows as text; a change without the token is refused.
 */
@ExtendWith(TestQueues.class)
@Timeout(240)
class ConsoleBrowserIT {
    static final ConsoleFixture.Failure IO = new ConsoleFixture.Failure("exhausted", "java.io.IOException",
            "com.acme.Upload.send(Upload.java:42)");
    static final ConsoleFixture.Failure NPE = new ConsoleFixture.Failure("permanent", "java.lang.NullPointerException",
            "com.acme.Resize.run(Resize.java:7)");
    static final String SCRIPT = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">";

    @Test
    void operatorFiltersOpensDryRunsAndReplaysAGroup(TestBroker broker, TestQueues queues) throws Exception {
        try (Connection raw = broker.connect("console-browser-it")) {
            QueueSpec q = ConsoleFixture.declare(raw, queues, "browser");
            Instant now = Instant.now();
            ConsoleFixture.publish(raw, q.name(), 60, i -> ConsoleFixture.props(q.name(), "b-" + i,
                    i % 3 == 0 ? "resize" : "upload", "user:" + (i % 7), i % 3 == 0 ? NPE : IO,
                    now.minusSeconds(40L * i)), i -> ConsoleFixture.json("{\"file\":\"f" + i + ".png\"}"));
            // One letter whose payload and error message are markup: they must show as text.
            ConsoleFixture.publish(raw, q.name(), 1, i -> ConsoleFixture.props(q.name(), "evil", "upload", SCRIPT, IO,
                    now), i -> ConsoleFixture.json("{\"html\":\"" + SCRIPT.replace("\"", "\\\"") + "\"}"));
            try (Console console = ConsoleFixture.start(broker, "console-browser-it-console", List.of(q));
                    Chromium chromium = Chromium.start()) {
                ChromeDriver d = chromium.driver();
                WebDriverWait wait = new WebDriverWait(d, Duration.ofSeconds(30));
                String base = new ConsoleFixture.Client(console).base();
                wait.withTimeout(Duration.ofSeconds(30)).until(x -> console.indexedLetters(q.name()) == 61);

                // Overview: the printed link logs in (cookie) and lands on /.
                d.get(base + "/?token=" + ConsoleFixture.TOKEN);
                WebElement row = wait.until(ExpectedConditions.presenceOfElementLocated(
                        By.cssSelector("#queues tr[data-queue='" + q.name() + "']")));
                assertThat(d.getCurrentUrl()).doesNotContain("token");
                assertThat(row.findElement(By.cssSelector("td.dead")).getText()).isEqualTo("61");
                assertThat(row.findElements(By.cssSelector("svg.spark polyline"))).hasSize(1);
                assertThat(d.findElement(By.id("broker")).getText()).doesNotContain("guest:guest");

                // A queue's dead letters, filtered by error class.
                row.findElement(By.cssSelector("a.queue-link")).click();
                wait.until(ExpectedConditions.textToBe(By.id("matched"), "61"));
                d.findElement(By.id("filter-errorClass")).sendKeys("NullPointerException");
                d.findElement(By.id("apply")).click();
                wait.until(ExpectedConditions.textToBe(By.id("matched"), "20"));
                assertThat(d.findElements(By.cssSelector("#letters tbody tr"))).hasSize(20);

                // One letter.
                d.findElement(By.cssSelector("#letters a.letter-link")).click();
                WebElement stack = wait.until(ExpectedConditions.presenceOfElementLocated(By.id("stack")));
                assertThat(stack.getText()).contains("at com.acme.Resize.run(Resize.java:7)");
                assertThat(d.findElement(By.id("payload")).getText()).contains("\"file\" : \"f0.png\"");

                // The <script> letter renders as text, and nothing ran.
                d.get(base + "/#/q/" + q.name() + "/letter/evil");
                WebElement payload = wait.until(ExpectedConditions.presenceOfElementLocated(By.id("payload")));
                assertThat(payload.getText()).contains("<script>window.__pwned = 1</script>");
                assertThat(d.findElement(By.id("headers")).getText()).contains("<img src=x onerror=");
                assertThat(d.findElements(By.cssSelector("#main script, #main img"))).isEmpty();
                assertThat(d.executeScript("return window.__pwned === undefined")).isEqualTo(true);

                // A change without the token, sent from the page itself: 403, nothing changes.
                Object status = d.executeAsyncScript("const done = arguments[arguments.length - 1];"
                        + "fetch('/api/queues/" + q.name() + "/purge', {method: 'POST', headers: {'Content-Type': "
                        + "'application/json'}, body: JSON.stringify({dryRun: false})}).then(r => done(r.status));");
                assertThat(status).isEqualTo(403L);
                ConsoleFixture.awaitDepth(raw, q.deadQueue(), 61);

                // Dry run, then replay one group; the count drops.
                d.get(base + "/#/q/" + q.name());
                wait.until(ExpectedConditions.textToBe(By.id("matched"), "61"));
                String npeGroup = dev.hopper.ops.dlq.DeadLetterGroups.groupId(NPE.reason(), NPE.errorClass(),
                        "at " + NPE.frame());
                d.findElement(By.cssSelector("button.group-replay[data-group='" + npeGroup + "']")).click();
                WebElement preview = wait.until(ExpectedConditions.presenceOfElementLocated(By.id("preview-text")));
                assertThat(preview.getText()).contains("would send back 20 of 61");
                ConsoleFixture.awaitDepth(raw, q.deadQueue(), 61);
                assertThat(depth(raw, q.name())).isZero();
                Path shot = Path.of("target", "console-screenshot.png");
                Files.write(shot, d.getScreenshotAs(OutputType.BYTES));
                d.findElement(By.id("confirm")).click();
                wait.until(ExpectedConditions.textToBe(By.id("matched"), "41"));
                wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("action-message"),
                        "Replayed 20 dead letters; 41 left."));
                // The console's background reads hold the dead letters for a moment: a passive declare counts them
                // again once a read ends.
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                        .until(() -> depth(raw, q.deadQueue()) == 41);
                assertThat(depth(raw, q.name())).isEqualTo(20);
                assertThat(d.findElements(By.cssSelector("button.group-replay[data-group='" + npeGroup + "']")))
                        .isEmpty();
            }
        }
    }
}
