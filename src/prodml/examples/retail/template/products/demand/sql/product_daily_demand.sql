/* prodml
stage: features
inputs: [silver.order_lines]
outputs: gold.product_daily_demand
partition_by: order_date
mode: replace_partitions
description: Units, revenue and orders per product and day.
*/
SELECT product_id,
       order_date,
       sum(quantity) AS units,
       sum(quantity * unit_price)::DOUBLE AS revenue,
       count(DISTINCT order_id) AS orders
FROM silver.order_lines
WHERE quantity IS NOT NULL AND product_id IS NOT NULL
GROUP BY ALL
