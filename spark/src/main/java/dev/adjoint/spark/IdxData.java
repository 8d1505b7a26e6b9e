package dev.adjoint.spark;

import dev.adjoint.nn.data.Idx;
import dev.adjoint.nn.data.IdxArray;
import dev.adjoint.nn.data.IdxFormatException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.col;

/**
 * Training data for {@link SparkTrainer} from IDX files (MNIST, Fashion-MNIST; plain or gzip), and
 * the conversions between DataFrames and {@link Example}s. The files are read by the driver (any
 * path it can open) and handed to Spark in {@code partitions} slices, in file order.
 */
public final class IdxData {
    public static final String FEATURES = "features";
    public static final String LABEL = "label";

    private IdxData() {
    }

    /**
     * Example {@code i} is image {@code i} flattened to one row, each value times {@code scale} (1/255
     * for pixels in [0, 1]), with label {@code i}.
     */
    public static JavaRDD<Example> examples(SparkSession spark, Path images, Path labels, double scale,
                                            int partitions) throws IOException {
        IdxArray x = Idx.read(images);
        IdxArray y = Idx.read(labels);
        int[] dims = x.shape().toArray();
        if (dims.length < 1 || y.shape().rank() != 1 || y.shape().dim(0) != dims[0]) {
            throw new IdxFormatException(labels.toString(), "expected one label per image of " + images.getFileName()
                    + " (" + x.shape() + "), got " + y.shape());
        }
        int n = dims[0];
        int width = n == 0 ? 0 : x.numel() / n;
        float[] all = x.toFloatArray(scale);
        long[] classes = y.toLongArray();
        List<Example> examples = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            float[] row = new float[width];
            System.arraycopy(all, i * width, row, 0, width);
            examples.add(new Example(row, classes[i]));
        }
        return JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(examples, partitions);
    }

    /** The same examples as a DataFrame with columns {@value #FEATURES} (array of float) and {@value #LABEL} (long). */
    public static Dataset<Row> dataset(SparkSession spark, Path images, Path labels, double scale, int partitions)
            throws IOException {
        return toDataset(spark, examples(spark, images, labels, scale, partitions));
    }

    /** Examples as a DataFrame with columns {@value #FEATURES} (array of float) and {@value #LABEL} (long). */
    public static Dataset<Row> toDataset(SparkSession spark, JavaRDD<Example> examples) {
        StructType schema = new StructType()
                .add(FEATURES, DataTypes.createArrayType(DataTypes.FloatType, false), false)
                .add(LABEL, DataTypes.LongType, false);
        return spark.createDataFrame(examples.map(e -> RowFactory.create(e.features(), e.label())), schema);
    }

    /**
     * A DataFrame's rows as examples: {@code featuresColumn} any array of numbers (cast to float),
     * {@code labelColumn} any integral or floating number (cast to long), row order kept.
     */
    public static JavaRDD<Example> toExamples(Dataset<Row> data, String featuresColumn, String labelColumn) {
        Dataset<Row> typed = data.select(col(featuresColumn).cast(DataTypes.createArrayType(DataTypes.FloatType)),
                col(labelColumn).cast(DataTypes.LongType));
        return typed.javaRDD().map(row -> {
            if (row.isNullAt(0) || row.isNullAt(1)) {
                throw new IllegalArgumentException("SparkTrainer: a row has a null " + featuresColumn + " or "
                        + labelColumn + ": " + row);
            }
            List<Object> values = row.getList(0);
            float[] features = new float[values.size()];
            for (int i = 0; i < features.length; i++) {
                Object v = values.get(i);
                if (v == null) {
                    throw new IllegalArgumentException("SparkTrainer: " + featuresColumn + " holds a null at " + i
                            + " in row " + row);
                }
                features[i] = ((Number) v).floatValue();
            }
            return new Example(features, row.getLong(1));
        });
    }
}
