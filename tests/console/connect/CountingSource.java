// A small source connector for the console's tests: each task writes "record N" to
// `topic` five times a second. With `fail` set its task fails at start (a FAILED task
// with a trace). Compiled by tests/console/connect_worker.py against connect-api.
package serde.test;

import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceConnector;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;

public class CountingSource extends SourceConnector {
    private Map<String, String> props;

    @Override public void start(Map<String, String> props) { this.props = props; }
    @Override public Class<? extends Task> taskClass() { return CountingTask.class; }
    @Override public List<Map<String, String>> taskConfigs(int maxTasks) { return List.of(props); }
    @Override public void stop() { }
    @Override public String version() { return "1"; }
    @Override public ConfigDef config() {
        return new ConfigDef().define("topic", ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "where records go");
    }

    public static class CountingTask extends SourceTask {
        private String topic;
        private long n;

        @Override public String version() { return "1"; }
        @Override public void start(Map<String, String> props) {
            topic = props.get("topic");
            if (props.containsKey("fail")) {
                throw new ConnectException("told to fail: " + props.get("fail"));
            }
        }
        @Override public List<SourceRecord> poll() throws InterruptedException {
            Thread.sleep(200);
            n++;
            return List.of(new SourceRecord(Map.of("source", "counter"), Map.of("n", n), topic, Schema.STRING_SCHEMA,
                                            "record " + n));
        }
        @Override public void stop() { }
    }
}
